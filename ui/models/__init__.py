"""The models screens: browse the hub, a repository's files, downloads, the library."""
