"""Optimizer paths on a surface, computed once with the update rules the drills grade with
(`quizforge.optim`). The terminal and the page only draw them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from quizforge.optim import RULES, Hyper, init_state, step
from quizforge.viz.errors import VizError
from quizforge.viz.surfaces import Surface

DEFAULT_OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
DIVERGED = 1e8  # |x| or |y| beyond this (or a NaN) ends a path: the page uses the same bound


@dataclass(frozen=True)
class Point:
    iter: int
    loss: float
    x: float
    y: float

    def to_dict(self) -> dict:
        return {"iter": self.iter, "loss": self.loss, "x": self.x, "y": self.y}


@dataclass(frozen=True)
class Trajectory:
    optimizer: str
    points: tuple[Point, ...]
    diverged: bool = False  # stopped early: the next step left the finite numbers (or 1e8)

    def at(self, k: int) -> Point:
        """The point after k steps (the last one if the path stopped before)."""
        return self.points[min(k, len(self.points) - 1)]

    def to_dict(self) -> dict:
        return {"optimizer": self.optimizer, "diverged": self.diverged,
                "points": [p.to_dict() for p in self.points]}


@dataclass(frozen=True)
class Settings:
    """Everything that fixes the paths; also what the page starts with."""

    optimizers: tuple[str, ...] = DEFAULT_OPTIMIZERS
    start: tuple[float, float] = (4.0, 4.0)
    lr: float = 0.1
    steps: int = 50
    momentum: float = 0.9  # --beta: μ of momentum and Nesterov
    betas: tuple[float, float] = (0.9, 0.999)
    alpha: float = 0.99
    weight_decay: float | None = None  # None: PyTorch's defaults (AdamW 0.01, the rest 0)
    extra: dict = field(default_factory=dict)

    def hyper(self, rule: str) -> Hyper:
        wd = self.weight_decay
        if wd is None:
            wd = 0.01 if rule == "adamw" else 0.0
        return Hyper(self.lr, momentum=self.momentum, betas=self.betas, alpha=self.alpha,
                     weight_decay=wd)

    def to_dict(self) -> dict:
        return {"optimizers": list(self.optimizers), "start": list(self.start), "lr": self.lr,
                "steps": self.steps, "momentum": self.momentum, "betas": list(self.betas),
                "alpha": self.alpha, "weight_decay": self.weight_decay}


def check_settings(s: Settings) -> None:
    """Every problem with the settings at once, as one VizError."""
    problems = settings_problems(s)
    if problems:
        raise VizError("; ".join(problems))


def settings_problems(s: Settings) -> list[str]:
    problems = []
    unknown = [o for o in s.optimizers if o not in RULES]
    if unknown:
        problems.append(f"unknown optimizer {', '.join(map(repr, unknown))} "
                        f"(available: {', '.join(RULES)})")
    if not s.optimizers:
        problems.append("give at least one --optimizer")
    if not (math.isfinite(s.lr) and s.lr > 0):
        problems.append(f"--lr must be a positive number (got {s.lr:g})")
    if not 1 <= s.steps <= 10_000:
        problems.append(f"--steps must be 1 to 10000 (got {s.steps})")
    if not 0 <= s.momentum < 1:
        problems.append(f"--beta must be in [0, 1) (got {s.momentum:g})")
    if not all(0 <= b < 1 for b in s.betas):
        problems.append(f"--betas must both be in [0, 1) (got {s.betas[0]:g},{s.betas[1]:g})")
    if not all(math.isfinite(c) and abs(c) < DIVERGED for c in s.start):
        problems.append("--start must be two finite numbers")
    return problems


def trajectory(surface: Surface, rule: str, s: Settings) -> Trajectory:
    hp = s.hyper(rule)
    theta = (float(s.start[0]), float(s.start[1]))
    loss = surface.loss(*theta)
    if not math.isfinite(loss):
        raise VizError(f"f is undefined at the start point ({theta[0]:g}, {theta[1]:g}); "
                       "pick another with --start X,Y")
    points = [Point(0, loss, *theta)]
    state = init_state(rule, 2)
    for k in range(1, s.steps + 1):
        g = surface.grad(*theta)
        try:
            theta, state = step(rule, theta, g, state, hp)
            loss = surface.loss(*theta)
        except (ArithmeticError, ValueError):
            return Trajectory(rule, tuple(points), diverged=True)
        if not (math.isfinite(loss) and all(abs(c) < DIVERGED for c in theta)):
            return Trajectory(rule, tuple(points), diverged=True)
        points.append(Point(k, loss, *theta))
    return Trajectory(rule, tuple(points))


def trajectories(surface: Surface, s: Settings) -> list[Trajectory]:
    """One path per optimizer, in the order given."""
    check_settings(s)
    return [trajectory(surface, rule, s) for rule in s.optimizers]
