"""Planning with an action-conditioned latent world model: CEM, energies, closed-loop MPC (V-JEPA 2-AC)."""

from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.energy import l1_energy, proprio_energy
from lit_jepa.planning.model import LatentWorldModel, encode_frames
from lit_jepa.planning.pose import integrate_pose

__all__ = ["CEMConfig", "LatentWorldModel", "cem", "encode_frames", "integrate_pose", "l1_energy", "proprio_energy"]
