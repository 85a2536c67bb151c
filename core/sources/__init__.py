"""Where an image comes from: a file, the local Docker engine, Podman, or a registry.

``reference`` reads the one reference syntax (skopeo's transports) used by every subcommand and the
GUI; ``open`` turns a reference into an opened ``Archive`` that the rest of the engine reads as it
reads a file. ``registry/`` speaks the distribution API, ``engine/`` the Docker and Podman APIs.
"""
