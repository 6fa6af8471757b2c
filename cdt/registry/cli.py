"""`flask cdt import members FILE --commune CODE` (built in the registry issue)."""
from flask.cli import AppGroup

import_group = AppGroup("import", help="Import records from files.")
