"""commonplan.analysis"""
