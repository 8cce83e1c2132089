"""Write, audit, publish: the analysts' copy of the marts."""
