"""MR, SUBJ and SST as distributed, for ``tfmtl-data split`` (the deduplicated split).

    tfmtl-data split --config=configs/sentiment_corpora.py --out=runs/sentiment_split

Writes runs/sentiment_split/{mr,subj,sst}/{train,dev,test}.tsv: MR and SUBJ split
80/10/10 (seed 0), SST's own split (binary), every training set stripped of the
sentences of every dev and test set.
"""

from tfmtl.config import base_config
from tfmtl.experiment import task_config


def get_config():
    config = base_config()
    config.data_dir = "../shared/data"  # Holds sentence_polarity/, subjectivity/, sst/.
    config.tasks.mr = task_config("classification", data=dict(
        format="class_files", classes="positive=sentence_polarity/rt-polarity.pos,"
        "negative=sentence_polarity/rt-polarity.neg"))
    config.tasks.subj = task_config("classification", data=dict(
        format="class_files", classes="subjective=subjectivity/quote.tok.gt9.5000,"
        "objective=subjectivity/plot.tok.gt9.5000"))
    config.tasks.sst = task_config("classification", data=dict(
        format="sst", train="sst/train.txt", dev="sst/dev.txt", test="sst/test.txt",
        sst="binary"))
    config.training.reference_task = "mr"
    return config
