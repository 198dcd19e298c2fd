"""Drawing results onto frames: small annotators (``annotators``) composed into the picture ``run`` and ``serve``
show (``overlay``).
"""
