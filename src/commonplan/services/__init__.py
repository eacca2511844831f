"""commonplan.services"""
