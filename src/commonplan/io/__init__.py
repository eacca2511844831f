"""commonplan.io"""
