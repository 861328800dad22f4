"""RCS Explorer's library: everything that can be tested without Streamlit."""
