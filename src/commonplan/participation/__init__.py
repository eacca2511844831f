"""commonplan.participation"""
