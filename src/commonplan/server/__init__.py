"""commonplan.server"""
