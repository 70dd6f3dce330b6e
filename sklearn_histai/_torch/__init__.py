"""The shared torch runtime of every family that trains a network (private).

``_runtime`` chooses devices, precision and threads, flushes subnormal
floats and seeds torch; ``_skorch`` holds the skorch net, data and
callbacks; ``_estimator`` the estimator base that trains through them and
``_supervised`` its classifier and regressor bases; ``_tokens`` the token-id
input of networks with an embedding layer; ``_docs`` the docstring text of
the shared parameters.
"""
