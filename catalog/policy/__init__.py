"""Policy: decides who may do what, and which catalog entries a principal may see."""
