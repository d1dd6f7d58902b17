"""research: test the claims of a market article against real prices.

Subpackages
-----------
research.data        price data (embedded snapshot, yfinance), trading calendar, article records
research.eventstudy  expected-return models, abnormal returns and the event-study test battery
research.claims      the article's claims as data, and their evaluation into verdicts
research.report      papermill execution of the notebooks and the HTML report site
"""

__version__ = "0.1.0"
