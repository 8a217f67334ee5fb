"""ToyWorld tasks: ``motion`` (SSv2), ``anticipation`` (EK100), ``fine`` (Diving-48), ``tabletop`` (DROID)."""
