"""Framework integrations; each module imports its framework only when it is imported itself.

- ``tora.integrations.transformers.ToraCallback``: Hugging Face ``Trainer`` callback
- ``tora.integrations.lightning.ToraLogger``: Lightning ``Logger``
- ``tora.integrations.keras.ToraCallback``: Keras 3 callback
- ``tora.integrations.ultralytics.add_tora_callbacks``: Ultralytics YOLO trainer callbacks

Each logs to the run the user started with ``tora.init`` when there is one, else starts a run
of its own (keyword arguments of the callback go to ``tora.init``), so callbacks made one after
the other in a sweep give one run each. See docs/integrations.md.
"""
