"""commonplan.datasets"""
