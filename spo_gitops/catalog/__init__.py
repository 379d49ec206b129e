"""The catalog pipeline: discover the catalog's files, load them into documents with positions,
check each document and the catalog as a whole, and index what later stages look up."""
