"""Models: the hub, downloads, the library on disk, what fits this machine."""
