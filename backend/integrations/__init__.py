"""What other systems of the operator tell us: device reports from head-end systems and back offices."""
