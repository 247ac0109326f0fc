"""The live runtime: a Flask-SocketIO server that runs a pavilion.core policy against real crowd workers."""
