"""The server store's one error, apart from the store itself.

Pages and the router catch it on every run, but the store (and SQLAlchemy
behind it, about a third of a second to import) is needed only once a page
reads or writes a saved list or the ledger: importing the error from here
keeps SQLAlchemy off the way to a page's first chart.
"""


class StoreError(ValueError):
    """A store that cannot be opened or used, or a document it cannot keep.

    The message is one line and never repeats a password from the URL.
    """
