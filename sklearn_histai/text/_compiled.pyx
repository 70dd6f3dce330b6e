"""Compiled word splitting and token lookup for one-byte (Latin-1) text.

Splitting a review into Python strings and looking each up in a dict costs
about 140 ns a token, more than a whole prediction of a mean-of-embeddings
classifier. :class:`TokenTable` maps tokens (as UTF-8 bytes) to integers in
an open-addressing hash table, and :meth:`TokenTable.positions` splits the
documents whose characters all fit in one byte (ASCII and Latin-1, nearly
all of an English corpus) while it scans them, with no Python object per
token. What a character is (part of a word, a one-character token, or
dropped) and its lowercase come from tables the caller derives from its own
patterns (:mod:`sklearn_histai.text._tokenizer`); other documents are split
by the caller's analyzer.
"""

import numpy as np

from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy

ctypedef Py_ssize_t intp

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object text)
    int PyUnicode_KIND(object text)
    void *PyUnicode_DATA(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)
    int PyUnicode_1BYTE_KIND
    object PyUnicode_DecodeUTF8(const char *data, Py_ssize_t size, const char *errors)

# Character classes, as bit flags of the caller's table.
cdef enum:
    # Part of a word.
    WORD = 1
    # A one-character token on its own (not part of a word).
    SINGLE = 2
    # Kept as a one-character token, where those are filtered.
    KEPT = 4

cdef uint64_t _FNV_OFFSET = 14695981039346656037ULL
cdef uint64_t _FNV_PRIME = 1099511628211ULL

cdef inline uint64_t _hash(const char *key, intp length) noexcept nogil:
    cdef uint64_t h = _FNV_OFFSET
    cdef intp i
    for i in range(length):
        h = (h ^ <uint8_t>key[i]) * _FNV_PRIME
    return h


cdef class TokenTable:
    """A hash table from tokens to integers, and a word splitter that reads it.

    Parameters
    ----------
    tokens : dict of str to int, optional
        The tokens to hold and their values.
    """

    cdef char *keys
    cdef intp keys_size, keys_capacity
    # Per entry: its key's offset and length in ``keys``, hash and value.
    cdef intp *offsets
    cdef intp *lengths
    cdef uint64_t *hashes
    cdef int64_t *values
    cdef intp n_entries, entries_capacity
    # Open addressing: the entry of each slot, or -1.
    cdef intp *slots
    cdef intp n_slots
    # Each entry's token as a str, where the table was asked to keep them.
    cdef list strings

    def __cinit__(self):
        cdef intp i
        self.keys_capacity = 1 << 16
        self.entries_capacity = 1 << 10
        self.n_slots = 1 << 11
        cdef size_t n = self.entries_capacity
        self.keys = <char *>_checked(malloc(self.keys_capacity))
        self.offsets = <intp *>_checked(malloc(n * sizeof(intp)))
        self.lengths = <intp *>_checked(malloc(n * sizeof(intp)))
        self.hashes = <uint64_t *>_checked(malloc(n * sizeof(uint64_t)))
        self.values = <int64_t *>_checked(malloc(n * sizeof(int64_t)))
        self.slots = <intp *>_checked(malloc(self.n_slots * sizeof(intp)))
        for i in range(self.n_slots):
            self.slots[i] = -1
        self.strings = []

    def __dealloc__(self):
        free(self.keys)
        free(self.offsets)
        free(self.lengths)
        free(self.hashes)
        free(self.values)
        free(self.slots)

    def __init__(self, tokens=None):
        cdef const char *key
        cdef Py_ssize_t length
        cdef uint64_t h
        if tokens is not None:
            # A dict: every token once.
            for token, value in tokens.items():
                encoded = _utf8(token)
                key = encoded
                length = len(encoded)
                h = _hash(key, length)
                self._add(self._find(key, length, h), key, length, h, value)

    def __len__(self):
        return self.n_entries

    cdef intp _find(self, const char *key, intp length, uint64_t h) noexcept:
        """Return the slot of ``key``, or of the empty slot where it would go."""
        cdef intp mask = self.n_slots - 1
        cdef intp slot = <intp>(h & <uint64_t>mask), entry
        while True:
            entry = self.slots[slot]
            if entry < 0:
                return slot
            if (
                self.hashes[entry] == h
                and self.lengths[entry] == length
                and memcmp(self.keys + self.offsets[entry], key, length) == 0
            ):
                return slot
            slot = (slot + 1) & mask

    cdef int _add(
        self, intp slot, const char *key, intp length, uint64_t h, int64_t value
    ) except -1:
        """Add ``key``, not held yet, at the empty ``slot`` that ``_find`` gave."""
        cdef intp entry
        if self.n_entries == self.entries_capacity:
            self._grow_entries()
        while self.keys_size + length > self.keys_capacity:
            self.keys_capacity *= 2
            self.keys = <char *>_checked(realloc(self.keys, self.keys_capacity))
        entry = self.n_entries
        memcpy(self.keys + self.keys_size, key, length)
        self.offsets[entry] = self.keys_size
        self.lengths[entry] = length
        self.hashes[entry] = h
        self.values[entry] = value
        self.keys_size += length
        self.n_entries += 1
        self.slots[slot] = entry
        if 2 * self.n_entries > self.n_slots:
            self._rehash()
        return 0

    cdef int _grow_entries(self) except -1:
        self.entries_capacity *= 2
        cdef size_t n = self.entries_capacity
        self.offsets = <intp *>_checked(realloc(self.offsets, n * sizeof(intp)))
        self.lengths = <intp *>_checked(realloc(self.lengths, n * sizeof(intp)))
        self.hashes = <uint64_t *>_checked(realloc(self.hashes, n * sizeof(uint64_t)))
        self.values = <int64_t *>_checked(realloc(self.values, n * sizeof(int64_t)))
        return 0

    cdef int _rehash(self) except -1:
        cdef intp entry, slot, mask
        self.n_slots *= 2
        mask = self.n_slots - 1
        free(self.slots)
        self.slots = <intp *>_checked(malloc(self.n_slots * sizeof(intp)))
        for slot in range(self.n_slots):
            self.slots[slot] = -1
        for entry in range(self.n_entries):
            slot = <intp>(self.hashes[entry] & <uint64_t>mask)
            while self.slots[slot] >= 0:
                slot = (slot + 1) & mask
            self.slots[slot] = entry
        return 0

    cdef int64_t _position(
        self, const char *key, intp length, bint intern, int64_t missing, object token
    ) except? -2:
        """The value of ``key``; a new key is interned or worth ``missing``.

        Interning gives a new key the next value, ``len(self)``, and keeps
        it as a str (``token``, or decoded from ``key``).
        """
        cdef uint64_t h = _hash(key, length)
        cdef intp slot = self._find(key, length, h)
        if self.slots[slot] >= 0:
            return self.values[self.slots[slot]]
        if not intern:
            return missing
        if token is None:
            token = PyUnicode_DecodeUTF8(key, length, NULL)
        self.strings.append(token)
        self._add(slot, key, length, h, self.n_entries)
        return self.n_entries - 1

    def tokens(self):
        """Return the tokens interned so far, in the order they came."""
        return list(self.strings)

    def positions(
        self,
        documents,
        const uint8_t[::1] classes,
        const uint8_t[::1] lower,
        split,
        bint intern,
        int64_t missing,
    ):
        """Split ``documents`` into tokens and return their values.

        A one-byte document is scanned here: a token is a run of ``WORD``
        characters (after ``lower``) joined across single apostrophes
        followed by another (``\\w+(?:'\\w+)*``), or a ``SINGLE`` character;
        in a document that is not ASCII, a one-character token is kept only
        if it is ``KEPT``.

        Parameters
        ----------
        documents : list of str
            The documents.
        classes : ndarray of shape (256,), dtype uint8
            The ``WORD`` (1), ``SINGLE`` (2) and ``KEPT`` (4) flags of each
            one-byte character.
        lower : ndarray of shape (256,), dtype uint8
            The character each one-byte character becomes (its lowercase, or
            itself).
        split : callable
            Returns the tokens (a list of str) of any other document.
        intern : bool
            Whether tokens not in the table are added (with the next value,
            in the order they come) or worth ``missing``.
        missing : int
            The value of tokens not in the table, without ``intern``.

        Returns
        -------
        values : ndarray of shape (n_tokens,), dtype int64
            The value of every token of every document, end to end.
        lengths : ndarray of shape (n_documents,), dtype intp
            The number of tokens of each document.
        """
        cdef intp n_documents = len(documents), d, i, n, start
        cdef intp word_capacity = 64, word_length, n_chars
        cdef const uint8_t *text
        cdef const char *key
        cdef Py_ssize_t key_length
        cdef uint8_t c, first
        cdef bint filtered
        cdef _Values values = _Values()
        cdef intp[::1] lengths = np.zeros(n_documents, dtype=np.intp)
        if classes.shape[0] != 256 or lower.shape[0] != 256:
            raise ValueError("classes and lower must hold 256 entries.")
        cdef char *word = <char *>_checked(malloc(word_capacity))
        try:
            for d in range(n_documents):
                document = documents[d]
                start = values.size
                if PyUnicode_KIND(document) != PyUnicode_1BYTE_KIND:
                    for token in split(document):
                        encoded = _utf8(token)
                        key = encoded
                        key_length = len(encoded)
                        values.append(
                            self._position(key, key_length, intern, missing, token)
                        )
                    lengths[d] = values.size - start
                    continue
                text = <const uint8_t *>PyUnicode_DATA(document)
                n = PyUnicode_GET_LENGTH(document)
                filtered = not PyUnicode_IS_ASCII(document)
                i = 0
                while i < n:
                    first = lower[text[i]]
                    if not classes[first] & (WORD | SINGLE):
                        i += 1
                        continue
                    # Up to two UTF-8 bytes a character, and an apostrophe.
                    if word_capacity < 2 * (n - i) + 2:
                        word_capacity = 2 * (n - i) + 2
                        word = <char *>_checked(realloc(word, word_capacity))
                    word_length = n_chars = 0
                    if classes[first] & SINGLE:
                        word_length = _put(word, 0, first)
                        n_chars = 1
                        i += 1
                    else:
                        while True:
                            while i < n and classes[lower[text[i]]] & WORD:
                                word_length = _put(word, word_length, lower[text[i]])
                                n_chars += 1
                                i += 1
                            if (
                                i + 1 < n
                                and text[i] == 39  # '
                                and classes[lower[text[i + 1]]] & WORD
                            ):
                                word[word_length] = 39
                                word_length += 1
                                n_chars += 1
                                i += 1
                                continue
                            break
                    if filtered and n_chars == 1 and not classes[first] & KEPT:
                        continue
                    values.append(
                        self._position(word, word_length, intern, missing, None)
                    )
                lengths[d] = values.size - start
            return values.array(), np.asarray(lengths)
        finally:
            free(word)


cdef class _Values:
    """A growing array of int64."""

    cdef int64_t *data
    cdef intp size, capacity

    def __cinit__(self):
        self.capacity = 1 << 12
        self.data = <int64_t *>_checked(malloc(self.capacity * sizeof(int64_t)))

    def __dealloc__(self):
        free(self.data)

    cdef inline int append(self, int64_t value) except -1:
        if self.size == self.capacity:
            self.capacity *= 2
            self.data = <int64_t *>_checked(
                realloc(self.data, self.capacity * sizeof(int64_t))
            )
        self.data[self.size] = value
        self.size += 1
        return 0

    cdef object array(self):
        """A copy of the values, as an ndarray."""
        result = np.empty(self.size, dtype=np.int64)
        cdef int64_t[::1] out = result
        if self.size:
            memcpy(&out[0], self.data, self.size * sizeof(int64_t))
        return result


cdef inline intp _put(char *word, intp length, uint8_t c) noexcept:
    """Write one-byte character ``c`` in UTF-8 at ``length``; the new length."""
    if c < 128:
        word[length] = <char>c
        return length + 1
    word[length] = <char>(0xC0 | (c >> 6))
    word[length + 1] = <char>(0x80 | (c & 0x3F))
    return length + 2


cdef bytes _utf8(str token):
    # Lone surrogates (text decoded with "surrogateescape") encode too.
    return token.encode("utf-8", "surrogatepass")


cdef inline void *_checked(void *pointer) except NULL:
    if pointer == NULL:
        raise MemoryError()
    return pointer
