"""ToyWorld: a seeded numpy video world that makes every lit_jepa recipe run, and mean something, on a CPU.

Four tasks mirror the paper's benchmarks: ``motion`` (SSv2), ``anticipation`` (EPIC-KITCHENS-100), ``fine``
(Diving-48) and ``tabletop`` (DROID, with the :class:`Tabletop` control environment for planning, a goal-image
planning environment as :class:`TabletopGoalEnv`). :class:`TwoRooms` is PLDM's and EB-JEPA's Two-Rooms navigation
world for planning, with EB-JEPA's random-walk training data (:class:`TwoRoomsWalkData`). Each is
written to disk in the official format (:func:`generate`, :func:`ensure_generated`, ``lit-jepa data toyworld``)
or served from memory (:class:`ToyClips`, :class:`ToyAnticipation`, :class:`ToyTrajectories`).
"""

from lit_jepa.data.toyworld.cache import ensure_generated
from lit_jepa.data.toyworld.env import GOAL_TASKS, Tabletop, success
from lit_jepa.data.toyworld.goal_env import TabletopGoalEnv
from lit_jepa.data.toyworld.memory import ToyAnticipation, ToyClips, ToyTrajectories
from lit_jepa.data.toyworld.tasks.tabletop import Goal, make_goal
from lit_jepa.data.toyworld.two_rooms import TwoRooms
from lit_jepa.data.toyworld.two_rooms_walks import TwoRoomsWalkData
from lit_jepa.data.toyworld.writers import ANNOTATIONS, generate

__all__ = [
    "ANNOTATIONS", "GOAL_TASKS", "Goal", "Tabletop", "TabletopGoalEnv", "ToyAnticipation", "ToyClips",
    "ToyTrajectories", "TwoRooms", "TwoRoomsWalkData",
    "ensure_generated", "generate", "make_goal", "success",
]
