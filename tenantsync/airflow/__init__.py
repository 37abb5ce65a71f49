"""Running tenantsync's syncs on Apache Airflow: the DAG file (`tenantsync_dags.py`, which
runs in Airflow's interpreter and imports nothing from here) and `tenantsync airflow`."""
