"""Flask app instrumented with OpenTelemetry, exporting metrics via Prometheus.

Used by scripts/otel-python-reference. Ports come from APP_PORT and
METRICS_PORT; everything binds to 127.0.0.1.
"""
import os
import time

from flask import Flask
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import start_http_server

APP_PORT = int(os.environ["APP_PORT"])
METRICS_PORT = int(os.environ["METRICS_PORT"])

start_http_server(METRICS_PORT, addr="127.0.0.1")
metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))

app = Flask(__name__)


@app.route("/items/<int:status>", methods=["GET", "POST", "DELETE", "PROPFIND"])
def items(status):
    return "", status


@app.route("/wait")
def wait():
    time.sleep(0.05)
    return ""


FlaskInstrumentor().instrument_app(app)

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=APP_PORT)
