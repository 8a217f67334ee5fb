"""The built-in planning environments, registered as gymnasium environments on import.

``tabletop`` (``lit_jepa/Tabletop-v0``) is ToyWorld's agent-and-block world, ``two_rooms``
(``lit_jepa/TwoRooms-v0``) the Two-Rooms navigation task of PLDM and EB-JEPA. Both implement
:class:`lit_jepa.planning.env.SimulatableEnv`; ``gymnasium.make(id, **kwargs)`` passes ``kwargs`` to them.
"""

from __future__ import annotations

import gymnasium

ENVS: dict[str, str] = {"tabletop": "lit_jepa/Tabletop-v0", "two_rooms": "lit_jepa/TwoRooms-v0"}
ENTRY_POINTS: dict[str, str] = {
    "lit_jepa/Tabletop-v0": "lit_jepa.data.toyworld.goal_env:TabletopGoalEnv",
    "lit_jepa/TwoRooms-v0": "lit_jepa.data.toyworld.two_rooms:TwoRooms",
}


def register() -> None:
    """Register every built-in environment with gymnasium (once)."""
    for env_id, entry_point in ENTRY_POINTS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point=entry_point)


register()
