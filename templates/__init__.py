"""Every text a user reads and the document template, as package data: found with
importlib.resources, so an installed wheel has them wherever it runs."""
