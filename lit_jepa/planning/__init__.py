"""Planning with an action-conditioned latent world model: CEM, energies, closed-loop MPC (V-JEPA 2-AC)."""

from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.energy import l1_energy, proprio_energy
from lit_jepa.planning.env import GoalEnv, Observation, SimulatableEnv, make_env
from lit_jepa.planning.model import LatentWorldModel, encode_frames
from lit_jepa.planning.mppi import MPPIConfig, mppi

__all__ = ["CEMConfig", "GoalEnv", "LatentWorldModel", "MPPIConfig", "Observation", "SimulatableEnv", "cem",
           "encode_frames", "l1_energy", "make_env", "mppi", "proprio_energy"]
