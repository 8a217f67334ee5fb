"""Planning with an action-conditioned latent world model: CEM, energies, closed-loop MPC (V-JEPA 2-AC)."""

from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.energy import l1_energy, proprio_energy
from lit_jepa.planning.env import GoalEnv, Observation, SimulatableEnv, make_env
from lit_jepa.planning.model import (
    LatentWorldModel,
    RecurrentEnsemble,
    RecurrentLatentModel,
    encode_frames,
    load_world_models,
)
from lit_jepa.planning.mppi import MPPIConfig, mppi

__all__ = ["CEMConfig", "GoalEnv", "LatentWorldModel", "MPPIConfig", "Observation", "RecurrentEnsemble",
           "RecurrentLatentModel", "SimulatableEnv", "cem", "encode_frames", "l1_energy", "load_world_models",
           "make_env", "mppi", "proprio_energy"]
