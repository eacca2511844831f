"""commonplan.store"""
