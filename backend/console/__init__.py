"""The specialist console: server-rendered pages over the review domain (no build step, no CDN)."""
