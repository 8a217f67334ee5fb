"""Progress on stderr: bars in a terminal, one status line per interval in logs; ToyWorld and ToyVQA generation
report progress."""

import io

from lit_jepa.data.toyworld.cache import ensure_generated
from lit_jepa.data.vqa import ensure_toyvqa
from lit_jepa.progress import LineWriter, progress_bar


def test_line_writer_turns_redraws_into_lines_and_skips_repeats():
    out = io.StringIO()
    w = LineWriter(out)
    for text in ["\rjob: 1/3", "\rjob: 2/3   ", "\rjob: 2/3", "", "\n", "\rjob: 3/3"]:
        w.write(text)
    assert out.getvalue() == "job: 1/3\njob: 2/3\njob: 3/3\n"


def test_without_a_terminal_the_bar_prints_status_lines(capsys):
    for _ in progress_bar(4, "demo", "clip", every_s=0.0, iterable=range(4)):
        pass
    lines = capsys.readouterr().err.splitlines()
    counts = list(dict.fromkeys(line.split(" [")[0] for line in lines))  # close() repeats the last count
    assert counts == [f"demo: {i}/4 clip" for i in range(5)]
    assert not any("\r" in line for line in lines) and "left" in lines[-1]


def test_a_long_interval_prints_only_the_first_and_last_lines(capsys):
    bar = progress_bar(100, "slow", every_s=3600.0)
    for _ in range(100):
        bar.update()
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert list(dict.fromkeys(line.split(" [")[0] for line in lines)) == ["slow: 0/100 it", "slow: 100/100 it"]


def test_toyworld_and_toyvqa_generation_report_progress(tmp_path, capsys):
    ensure_generated("motion", tmp_path / "motion", num=3, num_val=1, resolution=32)
    ensure_toyvqa(tmp_path / "vqa", num=2, num_val=1, resolution=32)
    err = capsys.readouterr().err
    assert f"generating ToyWorld motion in {tmp_path / 'motion'}: 4/4 video" in err
    assert f"generating ToyWorld VQA in {tmp_path / 'vqa'}: 3/3 question" in err
    ensure_generated("motion", tmp_path / "motion", num=3, num_val=1, resolution=32)  # reused: silent
    assert "generating" not in capsys.readouterr().err
