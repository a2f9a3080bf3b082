"""The progress line a log gets (not a terminal): plain text, one line per log_every."""

from tfmtl.training.callbacks.summaries import progress_line


def test_a_log_line_has_the_step_speed_eta_and_losses_and_no_control_codes():
    line = progress_line(1700, 8000, [("chunk_loss", 0.13561), ("pos_loss", 0.0741)],
                         since=100.0, since_step=1600, now=123.1)
    assert line == ("step 1700/8000 - 231ms/step - ETA 24:15 - chunk_loss: 0.1356 - "
                    "pos_loss: 0.0741")
    assert progress_line(10, 20000, [], since=0.0, since_step=0, now=10.0) == (
        "step 10/20000 - 1000ms/step - ETA 5:33:10")
    assert progress_line(5, 10, [("a", 1.0)], since=0.0, since_step=5, now=1.0) == (
        "step 5/10 - a: 1.0000")  # No step since the last line (a resumed run's first).
    assert "\r" not in line and "\x1b" not in line
