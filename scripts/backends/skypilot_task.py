#!/usr/bin/env python3
"""Load a SkyPilot task YAML with SkyPilot's own parser (sky.Task.from_yaml, as `sky launch`
does) and print what it understood as JSON; launch nothing. With --env K=V / --secret K=V,
also apply them as `sky launch --env/--secret` would (Task.from_yaml_config overrides).

  skypilot_task.py TASK.yaml [--env K=V ...] [--secret K=V ...]

Runs in the SkyPilot venv (scripts/backends/deploy-tools.sh: SKYPILOT_VENV/bin/python).
Exit 1 with the parser's message when the YAML is refused.
"""
import argparse
import json
import sys

import yaml

import sky


def pairs(items):
    return [tuple(i.split("=", 1)) for i in items]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--secret", action="append", default=[])
    args = ap.parse_args()
    try:
        task = sky.Task.from_yaml(args.task)
        with open(args.task) as f:
            config = yaml.safe_load(f)
        launched = sky.Task.from_yaml_config(config, env_overrides=pairs(args.env) or None,
                                             secrets_overrides=pairs(args.secret) or None)
    except Exception as e:  # the parser's refusal is the result
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 1
    out = {
        "sky_version": sky.__version__,
        "name": task.name,
        "ports": sorted({p for r in task.resources for p in (r.ports or [])}),
        "resources": [str(r) for r in task.resources],
        "envs": task.envs,
        "secret_refs": [r.name for r in getattr(task, "_managed_secret_refs", [])],
        "file_mounts": task.file_mounts,
        "workdir": task.workdir,
        "setup": task.setup,
        "run": task.run,
        "launched_envs": launched.envs,
        "launched_secrets": sorted(launched.secrets),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
