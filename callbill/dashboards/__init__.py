"""The finance dashboards (Streamlit): figures from the report marts, read from the readers' snapshot."""
