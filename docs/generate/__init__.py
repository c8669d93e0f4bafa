"""The reference pages' generated parts, written at build time from the code they describe."""
