"""ToyWorld tasks: ``motion`` (SSv2), ``dynamics`` (direction and speed), ``anticipation`` (EK100), ``fine``
(Diving-48), ``tabletop`` (DROID)."""
