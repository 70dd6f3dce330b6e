"""Fine-tuning pretrained transformers on raw text, with peft methods as parameters.

The estimators need the optional extra ``pip install sklearn-histai[peft]``
(transformers and peft), imported only when an estimator is fitted.
"""

from sklearn_histai.finetune._pretraining import continue_pretraining
from sklearn_histai.finetune._transformer import (
    TransformerClassifier,
    TransformerRegressor,
)

__all__ = ["TransformerClassifier", "TransformerRegressor", "continue_pretraining"]
