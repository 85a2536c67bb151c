"""A registry read directly over the distribution API, without a daemon or skopeo.

``open.py`` is the entry (``open_registry_image``, ``list_platforms``); ``client.py`` speaks HTTP
(schemes, timeouts, redirects, one-line errors), ``auth.py`` finds credentials and answers
``WWW-Authenticate`` challenges, ``manifests.py`` fetches and picks manifests, ``blobs.py`` downloads
and verifies blobs, ``store.py`` keeps them (in the persistent cache, or a private temporary folder)
and serves them to the OCI layout reader as a container.
"""
