"""Business rules. Services add and flush; the caller commits."""
