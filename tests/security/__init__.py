"""The Input/Output rules of spec/security.md, proved across the whole application.

- ``payloads``: the XSS corpus (markup, attribute breakouts, javascript:/data:
  URLs, SVG, template and format-string injection, entities, payloads inside
  Arabic text, bidirectional controls) and the bad links.
- ``conftest``: the hostile world, every free-text field of every record type
  filled with the corpus through the services.
- ``dom``: the page checker (stdlib html.parser) and a form reader.
- ``routes``: every rule of ``app.url_map`` turned into a real address.
- ``test_xss_pages``, ``test_files_and_api``: every page type, export, download,
  import preview and API answer, in English and Arabic.
- ``test_links``, ``test_redirects``, ``test_requests`` (CSRF, GET changes
  nothing), ``test_object_access`` (404 for records out of reach).
"""
