"""``lit_jepa.bench.vqa``: ``pooler_pos_embed`` reaches every model it trains."""

import torch

from lit_jepa import hub
from lit_jepa.bench import vqa as toy_vqa


def test_pooler_position_embedding_in_every_setting(tmp_path, record_instances, capsys):
    encoder = hub.export_official(tmp_path / "enc.pt", target_encoder=toy_vqa.model_args({})["encoder"])
    built = record_instances(toy_vqa, "VideoQA")
    rec = toy_vqa.run(num=8, num_val=4, epochs=1, batch_size=4, root=str(tmp_path / "vqa"),
                      encoder_ckpt=str(encoder), threads=torch.get_num_threads(), pooler_pos_embed=True)
    assert len(built) == 4  # pretrained, random, text only, answer-code control
    assert all(m.projector.pos_embed is not None and m.projector.pos_embed.shape[1] == m.encoder.num_patches
               for m in built)
    assert rec["params"]["pooler_pos_embed"] is True and "learned position embedding" in rec["protocol"]
    err = capsys.readouterr().err  # the clip encoding of each video setting reports progress (no silent stretch)
    assert all(f"{s}: encoding clips ({split}): {n}/{n} clip" in err
               for s in ("pretrained", "random") for split, n in (("train", 8), ("val", 4))), err
