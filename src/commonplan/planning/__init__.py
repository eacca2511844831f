"""commonplan.planning"""
