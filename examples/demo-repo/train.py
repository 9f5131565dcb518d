import torch
from transformers import AutoModelForSequenceClassification

# Base model from the hub, not pinned to a commit.
model = AutoModelForSequenceClassification.from_pretrained("distilbert-base-uncased", trust_remote_code=True)

# Resume from a checkpoint someone uploaded.
state = torch.load("models/clf/checkpoint.pt")
model.load_state_dict(state)
