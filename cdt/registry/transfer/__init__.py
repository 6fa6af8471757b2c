"""Member import (file -> preview -> one transaction) and member/team exports.

- columns.py: the import file's columns and how cell text becomes values;
- importing.py: reading, checking, previewing and committing an import;
- exporting.py: the member and team exports (one streamed statement each);
- forms.py: the upload and confirm forms.
The routes are in cdt/registry/transfer/views.py, the command in cdt/registry/cli.py.
"""
