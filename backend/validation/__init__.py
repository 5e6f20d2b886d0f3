"""Pure validation: evidence in, check results and a decision out. Imports nothing from the project."""
