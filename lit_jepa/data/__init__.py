"""Data layer: decoding, clip sampling, datasets, transforms, DataModules and the toy world.

Flow: file -> dataset (decode + sample frames, uint8) -> collate -> device -> ``on_after_batch_transfer``
(float, optional kornia augmentation, ImageNet normalisation) -> task module.

Sample contract (every dataset, including the toy world's in-memory ones): a map-style
``torch.utils.data.Dataset`` whose ``__getitem__`` returns a dict of

* ``"video"``: ``torch.uint8`` ``(V, C, T, H, W)``, ``V = num_segments * num_views`` (segment-major; 1 for a
  plain clip);
* ``"index"``: int64 scalar, the sample's index;
* ``"frame_indices"``: int64 ``(num_segments, T)``, the decoded frame indices;
* classification: ``"label"`` int64 scalar (unlabelled: -1); anticipation (EK100): ``"verb"``, ``"noun"``,
  ``"action"`` int64 scalars; trajectories (DROID): ``"states"`` float32 ``(T, S)``, ``"actions"`` float32
  ``(T - 1, A)``.

A dataset may also accept ``(index, epoch)`` keys by setting the class attribute ``epoch_keys = True`` (the
file-backed datasets do, to seed random clip placement per sample and epoch); otherwise it receives ``int`` keys.

Batches are ``default_collate`` of these dicts, ``(B, V, C, T, H, W)`` video; the file-backed datasets add a
``"failures"`` list to samples that replaced a bad file, which :func:`lit_jepa.data.loader.collate_clips` gathers
into ``batch["failures"]`` and the DataModule counts and removes. After the batch transform, ``"video"`` is float
``(B, V, C, T, H, W)`` normalised with ImageNet mean and std.

Modules: ``decode`` (readers), ``sampling`` (:class:`ClipSpec`), ``datasets/`` (one per format), ``transforms``,
``loader`` (resumable batching), ``datamodule`` (Lightning), ``streaming`` (litdata), ``doctor`` (data check),
``features`` (frozen-feature cache for probes), ``trajectory_features`` (encoded trajectories for the world
model), ``vqa/`` (video-QA formats, ToyWorld VQA and DataModules), ``toyworld/`` (the procedural toy world).
"""
