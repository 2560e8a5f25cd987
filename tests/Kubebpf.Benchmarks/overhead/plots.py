#!/usr/bin/python3
"""Draws the overhead benchmark's curves: one SVG per curve, next to its table in BENCHMARKS.md.

Usage: plots.py DATA.json DIRECTORY. overhead.py writes DATA (plot_data: per curve, its points' labels and, per figure,
[median, min, max] or null for each point) and runs this with Debian's python3, which has python3-matplotlib.
"""

import json
import os
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend is chosen first)

# Panels: (title, [(figure, legend)]); each point is drawn at its median with its min-to-max range, in its part's colour.
COLOURS = {"agent": "C0", "influxd": "C1", "socket filter (kernel)": "C2", "full agent vs none": "C3"}
PANELS = [
    ("nginx throughput loss with the agent (%)", [("loss", "full agent vs none")]),
    ("CPU-s per million requests", [("agent_cpu_s_per_million", "agent"), ("filter_cpu_s_per_million", "socket filter (kernel)"),
                                    ("influxd_cpu_s_per_million", "influxd")]),
    ("% of a core", [("agent_core_pct", "agent"), ("influxd_core_pct", "influxd")]),
]


def draw(name, curve, directory):
    labels = curve["labels"]
    positions = range(len(labels))
    figure, axes = plt.subplots(1, len(PANELS), figsize=(12, 3.6), constrained_layout=True)
    for axis, (title, series) in zip(axes, PANELS):
        for key, legend in series:
            points = [(x, v) for x, v in zip(positions, curve["series"][key]) if v]
            if not points:
                continue
            xs = [x for x, _ in points]
            medians = [v[0] for _, v in points]
            ranges = [[v[0] - v[1] for _, v in points], [v[2] - v[0] for _, v in points]]
            axis.errorbar(xs, medians, yerr=ranges, marker="o", capsize=3, label=legend, color=COLOURS[legend])
        axis.set_title(title, fontsize=10)
        axis.set_xticks(list(positions), labels)
        axis.set_xlabel(curve["title"], fontsize=9)
        axis.grid(True, alpha=0.3)
        axis.set_ylim(bottom=min(0, axis.get_ylim()[0]))
        if len(series) > 1:
            axis.legend(fontsize=8)
    # No date in the file, so that a rerun with the same figures changes nothing.
    figure.savefig(os.path.join(directory, f"{name}.svg"), metadata={"Date": None})
    plt.close(figure)


def main():
    data_path, directory = sys.argv[1:3]
    with open(data_path) as f:
        data = json.load(f)
    plt.rcParams["svg.fonttype"] = "none"  # text as text: small files that diff
    plt.rcParams["svg.hashsalt"] = "kubebpf"  # stable element ids
    for name, curve in data.items():
        draw(name, curve, directory)


if __name__ == "__main__":
    main()
