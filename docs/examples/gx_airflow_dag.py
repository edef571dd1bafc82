"""gx as an Airflow DAG: one task per Genius entity, running the same entity
scripts as cron does, with the dependencies of scripts/entities.deps.

Airflow then does what `scripts/all --jobs N` does with make: parents before
children, independent entities side by side (up to max_active_tasks), a
failed entity's children not run (trigger rule all_success), each entity
retried on its own. gx-state's lock in PostgreSQL still keeps two workers from
syncing one entity at once.

GX_HOME is where gx is installed on the workers (the checkout with its
programs built); the connection settings come from the workers' environment
(GENIUS_DB_*, PG*), never from this file.
"""
import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

GX_HOME = os.environ.get("GX_HOME", "/opt/gx")


def read_lines(name):
    """The non-comment lines of a gx text file, split into words."""
    with open(os.path.join(GX_HOME, name), encoding="utf-8") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if words:
                yield words


# scripts/entities: entity, target table, key, source table (registry order)
ENTITIES = [words[0] for words in read_lines("scripts/entities")]
# scripts/entities.deps: "child: parent parent ..."
PARENTS = {words[0].rstrip(":"): words[1:] for words in read_lines("scripts/entities.deps")}

with DAG(
    dag_id="gx_genius_sync",
    description="Genius CRM -> warehouse, one task per entity (gx)",
    schedule="*/15 * * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=4,  # as scripts/all --jobs 4
    default_args={
        "retries": 1,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(hours=6),
    },
    tags=["gx", "genius"],
) as dag:
    tasks = {
        entity: BashOperator(
            task_id=entity,
            # the script exits 4 when another run holds the entity's lock:
            # Airflow then retries it later, like any failure
            bash_command=f"{GX_HOME}/scripts/{entity}",
        )
        for entity in ENTITIES
    }
    for child, parents in PARENTS.items():
        for parent in parents:
            tasks[parent] >> tasks[child]
