"""Text and plate detection: one ``Detector`` interface, YOLO and Mask R-CNN backends."""
