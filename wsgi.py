"""Production entry point: ``gunicorn 'wsgi:app'``."""

from crm import create_app
from crm.config import check_production

app = create_app({"PRODUCTION": True})
check_production(app)
