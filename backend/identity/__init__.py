"""The identity provider as this service sees it: its metadata, the keys that verify its tokens and
where in a token it puts the role. Imports no Litestar; backend/auth.py and the console build on it."""
